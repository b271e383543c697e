/* resume.c - session resumption with stateless tickets: the server's
 * ticket seal/open and PSK acceptance, the client's session blob, PSK
 * offer and binder (RFC 8446 §2.2, §4.2.9, §4.2.11, §4.6.1, §7.1).
 * Formats: docs/resumption.md. */
#include "../conn.h"

#define PSK_MODE_KE 0
#define PSK_MODE_DHE_KE 1
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

fr_err fr_resume_config_init(ferrule_config *cfg) {
    fr_resume_config *r = &cfg->resume;
    r->tickets = FR_TICKET_DEFAULT_COUNT;
    r->psk_modes = FERRULE_PSK_DHE_KE;
    FR_ENSURE(pthread_mutex_init(&r->lock, NULL) == 0, FERRULE_R_INTERNAL);
    r->lock_ready = 1;
    uint8_t name[FR_TICKET_KEY_NAME_LEN], key[FR_TICKET_KEY_LEN];
    fr_err e = fr_random(name, sizeof(name));
    if (e == FR_OK) e = fr_random(key, sizeof(key));
    if (e == FR_OK) fr_resume_set_key(cfg, name, key);
    fr_wipe(key, sizeof(key));
    return e;
}

void fr_resume_config_free(ferrule_config *cfg) {
    fr_resume_config *r = &cfg->resume;
    fr_wipe(r->keys, sizeof(r->keys));
    if (r->lock_ready) pthread_mutex_destroy(&r->lock);
    r->lock_ready = 0;
}

void fr_resume_set_key(ferrule_config *cfg, const uint8_t *name, const uint8_t *key) {
    fr_resume_config *r = &cfg->resume;
    pthread_mutex_lock(&r->lock);
    memmove(r->names[1], r->names[0], (FR_TICKET_KEYS - 1) * FR_TICKET_KEY_NAME_LEN);
    memmove(r->keys[1], r->keys[0], (FR_TICKET_KEYS - 1) * FR_TICKET_KEY_LEN);
    memcpy(r->names[0], name, FR_TICKET_KEY_NAME_LEN);
    memcpy(r->keys[0], key, FR_TICKET_KEY_LEN);
    if (r->n_keys < FR_TICKET_KEYS) r->n_keys++;
    /* The oldest key, if pushed out, is gone: wipe the slot past n. */
    pthread_mutex_unlock(&r->lock);
}

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
static fr_err ticket_seal(ferrule_config *cfg, uint8_t *out, size_t n) {
    fr_resume_config *r = &cfg->resume;
    uint8_t key[FR_TICKET_KEY_LEN];
    pthread_mutex_lock(&r->lock);
    memcpy(out, r->names[0], FR_TICKET_KEY_NAME_LEN);
    memcpy(key, r->keys[0], sizeof(key));
    pthread_mutex_unlock(&r->lock);
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

/* Ticket decryptions per pass over a ClientHello's identities.  One under
 * a key we do not hold costs a name comparison; one under a key we hold
 * costs a key derivation and a decryption, and a ClientHello can carry
 * thousands.  Clients offer one or two. */
#define PSK_MAX_TRIALS 8

#define TICKET_OPENED 1
#define TICKET_NOT_OURS 0 /* not under one of our keys: nothing decrypted */
#define TICKET_BAD (-1)   /* under our key, but it does not decrypt */
#define TICKET_BUDGET (-2) /* under our key, but *trials reached PSK_MAX_TRIALS */

/* Open a ticket into the connection's buffer (grown as needed: a ticket
 * may carry the client's chain), counting decryptions in *trials; *state
 * reads the plaintext until the next ticket_open or ticket_forget. */
static int ticket_open(ferrule_conn *c, const uint8_t *t, size_t n, fr_reader *state,
                       unsigned *trials) {
    if (n < TICKET_OVERHEAD) return TICKET_NOT_OURS;
    fr_resume_config *r = &c->cfg->resume;
    fr_resume_conn *rc = &c->resume;
    uint8_t key[FR_TICKET_KEY_LEN];
    int found = 0;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n_keys && !found; i++) {
        if (memcmp(r->names[i], t, FR_TICKET_KEY_NAME_LEN) == 0) {
            memcpy(key, r->keys[i], sizeof(key));
            found = 1;
        }
    }
    pthread_mutex_unlock(&r->lock);
    if (!found) return TICKET_NOT_OURS; /* unknown or rotated-out key */
    if (*trials >= PSK_MAX_TRIALS) {
        fr_wipe(key, sizeof(key));
        return TICKET_BUDGET;
    }
    ++*trials;
    size_t body_len = n - TICKET_OVERHEAD;
    if (body_len > rc->open_cap) {
        uint8_t *grown = fr_mem_alloc(&c->mem, body_len);
        if (grown == NULL) {
            fr_wipe(key, sizeof(key));
            return TICKET_BAD;
        }
        fr_mem_free(&c->mem, rc->open_buf, rc->open_cap);
        rc->open_buf = grown;
        rc->open_cap = body_len;
    }
    fr_aead a;
    memset(&a, 0, sizeof(a));
    fr_err e = ticket_aead(&a, key, t + FR_TICKET_KEY_NAME_LEN, 0);
    fr_wipe(key, sizeof(key));
    if (e == FR_OK) {
        memcpy(rc->open_buf, t + TICKET_PREFIX, body_len);
        e = fr_aead_open(&a, t, FR_TICKET_KEY_NAME_LEN, rc->open_buf, body_len,
                         t + n - FR_AEAD_TAG_LEN);
    }
    fr_aead_free(&a);
    rc->open_len = body_len;
    *state = fr_reader_init(rc->open_buf, body_len);
    return e == FR_OK ? TICKET_OPENED : TICKET_BAD;
}

/* Wipe the plaintext of the last ticket opened (it holds the PSK). */
static void ticket_forget(ferrule_conn *c) {
    fr_wipe(c->resume.open_buf, c->resume.open_len);
    c->resume.open_len = 0;
}

static void write_u64(fr_writer *w, uint64_t v) {
    fr_write_u32(w, (uint32_t)(v >> 32));
    fr_write_u32(w, (uint32_t)v);
}

static fr_err read_u64(fr_reader *r, uint64_t *v) {
    uint32_t hi, lo;
    FR_TRY(fr_read_u32(r, &hi));
    FR_TRY(fr_read_u32(r, &lo));
    *v = (uint64_t)hi << 32 | lo;
    return FR_OK;
}

/* ---- server: NewSessionTicket -------------------------------------------- */

/* The server needs resumption_master_secret only to mint the tickets it
 * schedules at the end of the handshake: wipe it once they are out. */
static void forget_resumption_secret(ferrule_conn *c) {
    fr_wipe(c->ks.resumption, sizeof(c->ks.resumption));
}

/* Bytes of the client identity in our ticket state: a flag, and with a
 * client chain its validation time and the chain as the client sent it
 * (what a full handshake's Certificate gave, or the ticket resumed). */
static size_t identity_size(const ferrule_conn *c) {
    if (c->n_peer_certs == 0) return 1;
    size_t n = 1 + 8 + 1;
    for (size_t i = 0; i < c->n_peer_certs; i++) n += 3 + c->peer_certs[i]->der_len;
    return n;
}

static void write_identity(ferrule_conn *c, fr_writer *w) {
    fr_write_u8(w, c->n_peer_certs > 0);
    if (c->n_peer_certs == 0) return;
    write_u64(w, c->resume.identity_time > 0 ? (uint64_t)c->resume.identity_time : 0);
    fr_write_u8(w, (uint8_t)c->n_peer_certs);
    for (size_t i = 0; i < c->n_peer_certs; i++) {
        fr_write_open_vec(w, 3);
        fr_write_bytes(w, c->peer_certs[i]->der, c->peer_certs[i]->der_len);
        fr_write_close_vec(w);
    }
}

/* RFC 8446 §4.6.1: opaque ticket<1..2^16-1>; and a client chain of at most
 * FR_MAX_PEER_CHAIN certificates (what a ticket's identity can hold). */
static int ticket_fits(const ferrule_conn *c) {
    return c->n_peer_certs <= FR_MAX_PEER_CHAIN &&
           TICKET_OVERHEAD + TICKET_STATE_MAX - 1 + identity_size(c) <= 0xffff;
}

void fr_server_schedule_tickets(ferrule_conn *c) {
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
static void write_state(ferrule_conn *c, fr_writer *w, const uint8_t *psk, uint32_t age_add) {
    fr_write_u8(w, TICKET_STATE_VERSION);
    fr_write_u16(w, c->suite);
    fr_write_open_vec(w, 1);
    fr_write_bytes(w, psk, c->ks.hlen);
    fr_write_close_vec(w);
    write_u64(w, (uint64_t)fr_conn_now(c));
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

static fr_err send_ticket(ferrule_conn *c) {
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

void fr_server_send_pending_tickets(ferrule_conn *c) {
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

/* ---- server: accepting a PSK --------------------------------------------- */

typedef struct ticket_state {
    uint16_t suite;
    uint8_t psk[FR_MAX_HASH];
    size_t psk_len;
    uint64_t issued;
    uint32_t lifetime, age_add;
    fr_reader alpn, sni;
    uint32_t max_early;
    uint8_t store_id[FR_REPLAY_ID_LEN]; /* zeros in a version 1 ticket */
    /* The client identity (version 3): its chain, read in the ticket's
     * plaintext, and when it was validated. */
    fr_reader certs;
    size_t n_certs;
    int64_t identity_time;
} ticket_state;

/* u8 has_identity; then u64 identity_time, u8 n_certs (1..FR_MAX_PEER_CHAIN), n_certs
 * times opaque cert<1..2^24-1>. */
static fr_err parse_identity(fr_reader *r, ticket_state *s) {
    uint8_t has, n;
    uint64_t at;
    FR_TRY(fr_read_u8(r, &has));
    FR_ENSURE(has <= 1, FERRULE_R_DECODE_ERROR);
    if (!has) return FR_OK;
    FR_TRY(read_u64(r, &at));
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

static fr_err parse_state(fr_reader *r, ticket_state *s) {
    uint8_t v;
    fr_reader psk;
    FR_TRY(fr_read_u8(r, &v));
    FR_ENSURE(v >= 1 && v <= TICKET_STATE_VERSION, FERRULE_R_DECODE_ERROR);
    FR_TRY(fr_read_u16(r, &s->suite));
    FR_TRY(fr_read_vec8(r, &psk));
    s->psk_len = fr_reader_left(&psk);
    FR_ENSURE(s->psk_len > 0 && s->psk_len <= FR_MAX_HASH, FERRULE_R_DECODE_ERROR);
    memcpy(s->psk, psk.p, s->psk_len);
    FR_TRY(read_u64(r, &s->issued));
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

/* Does a ticket's suite have the hash of the suite we chose? */
static int hash_compatible(const ferrule_conn *c, const ticket_state *st) {
    const fr_suite_info *mine = fr_suite_lookup(c->suite), *theirs = fr_suite_lookup(st->suite);
    return mine != NULL && theirs != NULL && mine->hash == theirs->hash;
}

/* Forget a client identity taken from a ticket that is not used after all. */
static void drop_identity(ferrule_conn *c) {
    for (size_t i = 0; i < c->n_peer_certs; i++) fr_cert_free(&c->mem, c->peer_certs[i]);
    c->n_peer_certs = 0;
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
static int identity_usable(ferrule_conn *c, const ticket_state *s) {
    uint32_t mode = c->cfg->cauth.mode;
    if (mode == FERRULE_CLIENT_AUTH_NONE) return 1;
    if (s->n_certs == 0) return mode != FERRULE_CLIENT_AUTH_REQUIRE;
    int64_t now = fr_conn_now(c), at = now;
    if (c->cfg->resume.client_identity == FERRULE_RESUME_IDENTITY_KEEP) {
        if (now < s->identity_time || now - s->identity_time >= (int64_t)FR_TICKET_LIFETIME)
            return 0;
        at = s->identity_time;
    }
    if (c->n_peer_certs != 0) return 0; /* (a ClientHello comes before any Certificate) */
    fr_err e = FR_OK;
    fr_reader r = s->certs;
    for (size_t i = 0; i < s->n_certs && e == FR_OK; i++) {
        fr_reader der;
        fr_cert *cert = NULL;
        e = fr_read_vec24(&r, &der);
        if (e == FR_OK) e = fr_cert_parse(&c->mem, der.p, fr_reader_left(&der), &cert);
        if (e == FR_OK) e = fr_conn_add_peer_cert(c, cert);
    }
    if (e == FR_OK) e = fr_verify_peer_chain_at(c, NULL, 0, at);
    if (e != FR_OK) {
        drop_identity(c);
        return 0;
    }
    c->resume.identity_time = s->identity_time;
    return 1;
}

/* Is the decrypted ticket usable for this connection? */
static int state_usable(ferrule_conn *c, const ticket_state *s) {
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

fr_err fr_server_note_psk_modes(ferrule_conn *c, fr_ext *modes) {
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
    FR_ENSURE(o->n == n_binders, FERRULE_R_ILLEGAL_PARAMETER);
    return FR_OK;
}

/* A pass over the identities of a validated offer, in order. */
typedef struct psk_walk {
    fr_reader r;
    size_t index;    /* of the identity after the one walk_next returned */
    unsigned trials; /* decryptions so far (ticket_open) */
    int capped;      /* PSK_MAX_TRIALS ended the pass */
} psk_walk;

static void walk_start(psk_walk *w, fr_reader ids) {
    w->r = ids;
    w->index = 0;
    w->trials = 0;
    w->capped = 0;
}

/* Wipe what the pass decrypted. */
static void walk_end(ferrule_conn *c) { ticket_forget(c); }

/* The next identity that opens as one of our tickets, its state in *st
 * (which points into the connection's ticket buffer until the next call;
 * wipe it); 0 when none is left or the trial budget is spent. */
static int walk_next(ferrule_conn *c, psk_walk *w, ticket_state *st, fr_reader *id,
                     uint32_t *age) {
    while (!fr_reader_empty(&w->r)) {
        if (fr_read_vec16(&w->r, id) != FR_OK || fr_read_u32(&w->r, age) != FR_OK) return 0;
        w->index++;
        fr_reader pr;
        int opened = ticket_open(c, id->p, fr_reader_left(id), &pr, &w->trials);
        if (opened == TICKET_BUDGET) {
            w->capped = 1;
            return 0;
        }
        if (opened == TICKET_OPENED) {
            if (parse_state(&pr, st) == FR_OK) return 1;
            fr_wipe(st, sizeof(*st));
        }
    }
    return 0;
}

/* SHA-256 over the identities (u16 length || bytes, in order) of an offer
 * that are our tickets compatible with the chosen suite (none, or psk NULL:
 * the digest of nothing); *complete: the whole offer was examined. */
static fr_err compatible_digest(ferrule_conn *c, fr_ext *psk, uint8_t out[FR_HRR_DIGEST_LEN],
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
    ticket_state st;
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

fr_err fr_server_note_hrr_psks(ferrule_conn *c, fr_ext *psk) {
    c->hrr.psk_state = FR_HRR_PSK_NONE;
    if (psk == NULL) return FR_OK;
    int complete;
    FR_TRY(compatible_digest(c, psk, c->hrr.psk_digest, &complete));
    c->hrr.psk_state = complete ? FR_HRR_PSK_DIGEST : FR_HRR_PSK_UNCHECKED;
    return FR_OK;
}

fr_err fr_server_check_hrr_psks(ferrule_conn *c, fr_ext *psk) {
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
static fr_err check_binder(ferrule_conn *c, const offered_psks *o, size_t index,
                           const ticket_state *st, fr_reader *binder) {
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

fr_err fr_server_try_psk(ferrule_conn *c, fr_ext *psk) {
    offered_psks o;
    FR_TRY(parse_offered(psk, &o));
    /* psk_dhe_ke wins when both modes are possible. */
    int dhe = (c->resume.peer_modes & FERRULE_PSK_DHE_KE) != 0;
    if (c->resume.peer_modes == 0) return FR_OK; /* full handshake */
    FR_ENSURE(o.n <= 0xffff, FERRULE_R_DECODE_ERROR);

    /* The first usable identity wins.  RFC 8446 §4.2.11.1: its age
     * (age - age_add) matters only for 0-RTT (fr_server_early_decide). */
    psk_walk w;
    walk_start(&w, o.ids);
    ticket_state st;
    fr_reader id;
    uint32_t age;
    int found = 0;
    fr_reader binder;
    fr_err e = FR_OK;
    while (!found && e == FR_OK && walk_next(c, &w, &st, &id, &age)) {
        /* The binder before the client identity carried by the ticket: a
         * chain validation only for a peer that holds the PSK. */
        if (state_usable(c, &st)) {
            e = check_binder(c, &o, w.index - 1, &st, &binder);
            found = e == FR_OK && identity_usable(c, &st);
        }
        if (!found) fr_wipe(&st, sizeof(st));
    }
    if (!found) {
        walk_end(c);
        return e;
    }
    size_t selected = w.index - 1;
    if (e == FR_OK) {
        memcpy(c->resume.psk, st.psk, st.psk_len);
        c->resume.psk_len = st.psk_len;
        c->resume.resumed = 1;
        c->resume.psk_ke = !dhe;
        c->resume.selected = (uint16_t)selected;
        e = fr_server_note_psk_for_early(c, st.max_early, st.store_id, st.suite, st.issued,
                                         st.lifetime, age - st.age_add, id.p,
                                         fr_reader_left(&id), binder.p, fr_reader_left(&binder));
    }
    fr_wipe(&st, sizeof(st));
    walk_end(c);
    return e;
}

/* ---- client: the session blob --------------------------------------------- */

fr_err fr_session_parse(const uint8_t *blob, size_t len, fr_session *s) {
    memset(s, 0, sizeof(*s));
    fr_reader r = fr_reader_init(blob, len);
    uint8_t v;
    fr_reader psk, ticket, alpn, sni;
    uint64_t received;
    FR_TRY(fr_read_u8(&r, &v));
    /* Version 1 blobs (before 0-RTT) stay usable, without early data. */
    FR_ENSURE(v == 1 || v == FR_SESSION_VERSION, FERRULE_R_DECODE_ERROR);
    FR_TRY(fr_read_u16(&r, &s->suite));
    FR_TRY(fr_read_vec8(&r, &psk));
    FR_TRY(read_u64(&r, &received));
    FR_TRY(fr_read_u32(&r, &s->lifetime));
    FR_TRY(fr_read_u32(&r, &s->age_add));
    FR_TRY(fr_read_vec16(&r, &ticket));
    FR_TRY(fr_read_vec8(&r, &alpn));
    FR_TRY(fr_read_vec8(&r, &sni));
    uint8_t n;
    FR_TRY(fr_read_u8(&r, &n));
    FR_ENSURE(n <= FR_MAX_PEER_CHAIN, FERRULE_R_DECODE_ERROR);
    for (size_t i = 0; i < n; i++) {
        fr_reader der;
        FR_TRY(fr_read_vec24(&r, &der));
        FR_ENSURE(!fr_reader_empty(&der), FERRULE_R_DECODE_ERROR);
        s->ders[i] = der.p;
        s->lens[i] = fr_reader_left(&der);
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
    s->received = (int64_t)received;
    s->psk = psk.p;
    s->psk_len = fr_reader_left(&psk);
    s->ticket = ticket.p;
    s->ticket_len = fr_reader_left(&ticket);
    s->alpn = alpn.p;
    s->alpn_len = fr_reader_left(&alpn);
    s->sni = sni.p;
    s->sni_len = fr_reader_left(&sni);
    s->n_certs = n;
    return FR_OK;
}

/* Keep the newest ticket (RFC 8446 §4.6.1: a server may send any number):
 * its bytes replace the previous ticket's in one buffer that grows by
 * doubling, so a flood of tickets costs O(their size) and at most a
 * handful of allocations, whatever the server's chain. */
static fr_err keep_ticket(ferrule_conn *c, fr_reader ticket, fr_reader nonce, uint32_t lifetime,
                          uint32_t age_add, uint32_t max_early) {
    fr_kept_ticket *t = &c->resume.kept;
    size_t n = fr_reader_left(&ticket);
    uint8_t *grown = NULL;
    size_t grown_cap = t->ticket_cap;
    if (n > t->ticket_cap) {
        if (grown_cap < 256) grown_cap = 256;
        while (grown_cap < n) grown_cap *= 2;
        grown = fr_mem_alloc(&c->mem, grown_cap);
        if (grown == NULL) return fr_mem_error(&c->mem, grown_cap);
    }
    /* RFC 8446 §4.6.1: PSK = HKDF-Expand-Label(resumption_master_secret,
     * "resumption", ticket_nonce, Hash.length). */
    uint8_t psk[FR_MAX_HASH];
    fr_err e = fr_ks_ticket_psk(c->ks.hash, c->ks.resumption, nonce.p, fr_reader_left(&nonce), psk);
    if (e != FR_OK) {
        fr_mem_free(&c->mem, grown, grown_cap);
        return e;
    }
    int64_t now = fr_conn_now(c);
    pthread_mutex_lock(&c->err_lock);
    uint8_t *old = NULL;
    size_t old_cap = 0;
    if (grown != NULL) {
        old = t->ticket;
        old_cap = t->ticket_cap;
        t->ticket = grown;
        t->ticket_cap = grown_cap;
    }
    memcpy(t->ticket, ticket.p, n);
    t->ticket_len = n;
    memcpy(t->psk, psk, sizeof(psk));
    t->psk_len = c->ks.hlen;
    t->received = now > 0 ? now : 0;
    t->lifetime = lifetime;
    t->age_add = age_add;
    t->max_early = max_early;
    c->resume.have_kept = 1;
    c->resume.tickets_received++;
    pthread_mutex_unlock(&c->err_lock);
    fr_wipe(psk, sizeof(psk));
    fr_mem_free(&c->mem, old, old_cap); /* wipes the older ticket */
    return FR_OK;
}

fr_err fr_on_new_session_ticket(ferrule_conn *c, fr_reader *body) {
    uint32_t lifetime, age_add;
    fr_reader nonce, ticket, exts_block;
    fr_exts x;
    FR_TRY(fr_read_u32(body, &lifetime));
    FR_TRY(fr_read_u32(body, &age_add));
    FR_TRY(fr_read_vec8(body, &nonce));
    FR_TRY(fr_read_vec16(body, &ticket));
    FR_TRY(fr_read_vec16(body, &exts_block));
    FR_TRY(fr_read_done(body));
    FR_ENSURE(!fr_reader_empty(&ticket), FERRULE_R_DECODE_ERROR);
    FR_TRY(fr_exts_parse(&exts_block, &x));
    /* RFC 8446 §4.2.10: early_data { uint32 max_early_data_size; }; other
     * extensions are ignored (§4.6.1). */
    uint32_t max_early = 0;
    fr_ext *ed = fr_exts_find(&x, FR_EXT_EARLY_DATA);
    if (ed != NULL) {
        FR_TRY(fr_read_u32(&ed->body, &max_early));
        FR_TRY(fr_read_done(&ed->body));
    }
    /* RFC 8446 §4.6.1: at most seven days. */
    FR_ENSURE(lifetime <= FR_TICKET_MAX_LIFETIME, FERRULE_R_ILLEGAL_PARAMETER);
    /* Lifetime zero: discard immediately (§4.6.1). */
    if (lifetime == 0) return FR_OK;
    return keep_ticket(c, ticket, nonce, lifetime, age_add, max_early);
}

/* The server's chain as the blob stores it (the first FR_MAX_PEER_CHAIN). */
static size_t blob_certs(const ferrule_conn *c) {
    return c->n_peer_certs < FR_MAX_PEER_CHAIN ? c->n_peer_certs : FR_MAX_PEER_CHAIN;
}

static size_t blob_size(const ferrule_conn *c) {
    const fr_kept_ticket *t = &c->resume.kept;
    size_t sni_len = c->has_server_name ? strlen(c->server_name) : 0;
    /* version, suite, psk<1..255>, received, lifetime, age_add,
     * ticket<1..2^16-1>, alpn<0..255>, sni<0..255>, n_certs, max_early */
    size_t n = 1 + 2 + 1 + t->psk_len + 8 + 4 + 4 + 2 + t->ticket_len + 1 + c->alpn_len + 1 +
               sni_len + 1 + 4;
    for (size_t i = 0; i < blob_certs(c); i++) n += 3 + c->peer_certs[i]->der_len;
    return n;
}

fr_err fr_client_session_blob(ferrule_conn *c, uint8_t *out, size_t cap, size_t *len) {
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
    write_u64(&w, (uint64_t)t->received);
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
    fr_write_u8(&w, (uint8_t)blob_certs(c));
    for (size_t i = 0; i < blob_certs(c); i++) {
        fr_write_open_vec(&w, 3);
        fr_write_bytes(&w, c->peer_certs[i]->der, c->peer_certs[i]->der_len);
        fr_write_close_vec(&w);
    }
    fr_write_u32(&w, t->max_early);
    fr_err e = fr_write_finish(&w);
    if (e == FR_OK && w.len != *len) e = FERRULE_R_INTERNAL;
    if (e != FR_OK) fr_wipe(out, *len);
    return e;
}

void fr_resume_conn_free(ferrule_conn *c) {
    fr_resume_conn *r = &c->resume;
    fr_mem_free(&c->mem, r->kept.ticket, r->kept.ticket_cap);
    fr_mem_free(&c->mem, r->open_buf, r->open_cap);
    if (r->offer_blob != NULL) fr_mem_free(&c->mem, r->offer_blob, r->offer_len);
    r->kept.ticket = r->offer_blob = r->open_buf = NULL;
    r->have_kept = 0;
    fr_wipe(r->kept.psk, sizeof(r->kept.psk));
    fr_wipe(r->psk, sizeof(r->psk));
}

/* ---- client: offering ----------------------------------------------------- */

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
static int offer_fits(const ferrule_conn *c, const fr_session *s) {
    return psk_ext_size(s) + FR_CLIENT_HELLO_BASE + c->cfg->alpn_len <= 0xffff;
}

/* Is the stored session usable for this ClientHello? */
int fr_client_session_usable(ferrule_conn *c) {
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

static void write_psk_modes(ferrule_conn *c, fr_writer *w) {
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

fr_err fr_client_write_psk(ferrule_conn *c, fr_writer *w) {
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
    /* RFC 8446 §4.2.11.1: obfuscated_ticket_age = age in ms + age_add. */
    uint64_t age_ms = (uint64_t)(fr_conn_now(c) - s->received) * 1000u;
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

fr_err fr_client_psk_binder(ferrule_conn *c, uint8_t *msg, size_t len) {
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

fr_err fr_client_on_psk(ferrule_conn *c, fr_reader *body, uint16_t suite) {
    /* RFC 8446 §4.2.11: only in answer to our offer. */
    FR_ENSURE(c->resume.offered, FERRULE_R_UNSUPPORTED_EXTENSION);
    uint16_t selected;
    FR_TRY(fr_read_u16(body, &selected));
    FR_TRY(fr_read_done(body));
    FR_ENSURE(selected == 0, FERRULE_R_ILLEGAL_PARAMETER); /* we offered one */
    const fr_session *s = &c->resume.offer;
    const fr_suite_info *a = fr_suite_lookup(suite), *b = fr_suite_lookup(s->suite);
    FR_ENSURE(a != NULL && b != NULL && a->hash == b->hash, FERRULE_R_ILLEGAL_PARAMETER);
    /* The original chain, for introspection: it was verified when the
     * ticket's connection was established. */
    for (size_t i = 0; i < s->n_certs; i++) {
        fr_cert *cert;
        FR_TRY(fr_cert_parse(&c->mem, s->ders[i], s->lens[i], &cert));
        FR_TRY(fr_conn_add_peer_cert(c, cert));
    }
    memcpy(c->resume.psk, s->psk, s->psk_len);
    c->resume.psk_len = s->psk_len;
    c->resume.resumed = 1;
    return FR_OK;
}
