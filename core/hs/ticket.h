/*
 * ticket.h - the server's ticket, private to core/hs/: ticket.c seals and
 * opens it and owns the key ring; psk.c accepts the PSK it carries.
 * Format: docs/resumption.md.
 */
#ifndef FR_TICKET_H
#define FR_TICKET_H

#include "../conn.h"

/* A ticket's decrypted state (pointers into the connection's ticket
 * buffer until the next fr_ticket_open or fr_ticket_forget). */
typedef struct fr_ticket_state {
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
} fr_ticket_state;

/* Ticket decryptions per pass over a ClientHello's identities.  One under
 * a key we do not hold costs a name comparison; one under a key we hold
 * costs a key derivation and a decryption, and a ClientHello can carry
 * thousands.  Clients offer one or two. */
#define FR_PSK_MAX_TRIALS 8

/* fr_ticket_open's results. */
#define FR_TICKET_OPENED 1
#define FR_TICKET_NOT_OURS 0   /* not under one of our keys: nothing decrypted */
#define FR_TICKET_BAD (-1)     /* under our key, but it does not decrypt */
#define FR_TICKET_BUDGET (-2)  /* under our key, but *trials reached FR_PSK_MAX_TRIALS */

/* Open a ticket into the connection's buffer (grown as needed: a ticket
 * may carry the client's chain), counting decryptions in *trials; *state
 * reads the plaintext until the next fr_ticket_open or fr_ticket_forget. */
int fr_ticket_open(fr_conn *c, const uint8_t *t, size_t n, fr_reader *state, unsigned *trials);
/* Wipe the plaintext of the last ticket opened (it holds the PSK). */
void fr_ticket_forget(fr_conn *c);
/* Seal an n-byte state under the current key into out[0..cap): *len =
 * n + key name, nonce and tag.  Only for fuzz/fuzz_ticket.c, which seals
 * fuzzed states so that opening them reaches fr_ticket_parse_state (the
 * library seals through send_ticket). */
FR_MUST_CHECK fr_err fr_ticket_seal_state(fr_config *cfg, const uint8_t *state, size_t n,
                                          uint8_t *out, size_t cap, size_t *len);
/* Strict parse of an opened ticket's state (any version we wrote). */
FR_MUST_CHECK fr_err fr_ticket_parse_state(fr_reader *r, fr_ticket_state *s);

/* Big-endian uint64, for the ticket state and the session blob. */
static inline void fr_resume_put_u64(fr_writer *w, uint64_t v) {
    fr_write_u32(w, (uint32_t)(v >> 32));
    fr_write_u32(w, (uint32_t)v);
}

static inline fr_err fr_resume_get_u64(fr_reader *r, uint64_t *v) {
    uint32_t hi, lo;
    FR_TRY(fr_read_u32(r, &hi));
    FR_TRY(fr_read_u32(r, &lo));
    *v = (uint64_t)hi << 32 | lo;
    return FR_OK;
}

#endif
