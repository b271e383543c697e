/*
 * resume.h - session resumption with stateless tickets (RFC 8446 §2.2,
 * §4.2.9, §4.2.11, §4.6.1).  Formats and policy: docs/resumption.md.
 * Included by conn.h.  By layer: hs/ticket.c (the key ring, sealing and
 * opening, NewSessionTicket), hs/psk.c (the PSK offer, binder and
 * acceptance), hs/session.c (the client's kept ticket and session blob).
 */
#ifndef FR_RESUME_H
#define FR_RESUME_H

#include <stdatomic.h>

#include "../common.h"
#include "../crypto/crypto.h"

#define FR_TICKET_KEY_NAME_LEN 16
#define FR_TICKET_KEY_LEN 32
#define FR_TICKET_KEYS 3 /* the current key and the two before it */
#define FR_TICKET_NONCE_LEN 12
#define FR_TICKET_DEFAULT_COUNT 2
#define FR_TICKET_MAX_COUNT 16
#define FR_TICKET_LIFETIME 86400u    /* seconds we grant (one day) */
#define FR_TICKET_MAX_LIFETIME 604800u /* RFC 8446 §4.6.1: seven days */
/* Session blob versions (docs/resumption.md): 2 added max_early_data; 3
 * keeps the server's leaf only, so a blob no longer grows with the chain. */
#define FR_SESSION_VERSION 3
#define FR_MAX_PEER_CHAIN 16
/* Room a ClientHello gets beside its ALPN list, cookie and PSK offer
 * (client_hello.c send_hello sizes its buffer with it): every other
 * extension fits in it, which is how a session is judged to fit. */
#define FR_CLIENT_HELLO_BASE 4096u

typedef struct fr_resume_config {
    /* Ticket-key ring, rotated while connections use the config: guarded
     * by the config's FR_LOCK_CFG_TICKETS (sync.h).  keys[0] encrypts;
     * all n decrypt. */
    uint8_t names[FR_TICKET_KEYS][FR_TICKET_KEY_NAME_LEN];
    uint8_t keys[FR_TICKET_KEYS][FR_TICKET_KEY_LEN];
    size_t n_keys;
    uint32_t tickets; /* NewSessionTickets per connection; 0: none issued */
    uint32_t psk_modes; /* FERRULE_PSK_* offered (client) / accepted (server) */
    /* ferrule_config_set_resumption (server). */
    uint32_t accept;          /* FERRULE_RESUME_ACCEPT / _REFUSE */
    uint32_t client_identity; /* FERRULE_RESUME_IDENTITY_* */
} fr_resume_config;

/* A parsed client session blob; pointers into `blob`. */
typedef struct fr_session {
    uint16_t suite;
    const uint8_t *psk;
    size_t psk_len;
    int64_t received; /* seconds, the config's clock */
    uint32_t lifetime, age_add;
    const uint8_t *ticket;
    size_t ticket_len;
    const uint8_t *alpn, *sni;
    size_t alpn_len, sni_len;
    /* The server's leaf certificate (DER, framing checked, not parsed:
     * it was verified when the ticket's connection was established);
     * leaf_len 0: none.  Of a version 1 or 2 blob's chain, the first. */
    const uint8_t *leaf;
    size_t leaf_len;
    uint32_t max_early; /* the ticket's max_early_data_size; 0 = no 0-RTT */
} fr_session;

/* Client: the newest ticket received, its own fields only.  The session
 * blob adds what every ticket of the connection shares (suite, ALPN, SNI,
 * the server's chain) when the application asks for it, so a ticket costs
 * O(its size) and no allocation unless it is larger than all before it. */
typedef struct fr_kept_ticket {
    uint8_t *ticket; /* ticket_cap bytes from c->mem; NULL before the first */
    size_t ticket_len, ticket_cap;
    /* The ticket's PSK (RFC 8446 §4.6.1), derived when it arrived: the
     * resumption secret is wiped if the connection fails later, and the
     * session stays usable. */
    uint8_t psk[FR_MAX_HASH];
    size_t psk_len;
    int64_t received; /* seconds, the config's clock */
    uint32_t lifetime, age_add, max_early;
} fr_kept_ticket;

typedef struct fr_resume_conn {
    /* client */
    uint8_t *offer_blob; /* set by ferrule_conn_set_session */
    size_t offer_len;
    fr_session offer;
    int offered;       /* this ClientHello carries pre_shared_key */
    fr_kept_ticket kept; /* guarded by FR_LOCK_CONN_ERR (ferrule_conn_session reads it) */
    int have_kept;
    unsigned long tickets_received;
    /* both */
    int resumed;
    int psk_ke; /* resumed in psk_ke mode: no (EC)DHE */
    uint8_t psk[FR_MAX_HASH];
    size_t psk_len;
    /* server */
    uint32_t peer_modes;         /* FERRULE_PSK_* the client advertised and we accept */
    uint16_t selected;           /* the identity we accepted */
    atomic_uint pending_tickets; /* to send from the send half */
    uint32_t ticket_counter;     /* ticket_nonce of the next ticket */
    /* When the client's chain was validated in the full handshake where
     * it was presented (tickets of resumed connections carry it on): what
     * FERRULE_RESUME_IDENTITY_KEEP validates it as of. */
    int64_t identity_time;
    uint8_t *open_buf; /* a decrypted ticket state (may hold a client chain) */
    size_t open_cap, open_len;
} fr_resume_conn;

struct ferrule_config;
struct ferrule_conn;
FR_MUST_CHECK fr_err fr_resume_config_init(struct ferrule_config *cfg);
void fr_resume_config_free(struct ferrule_config *cfg);
/* Install a new current ticket key; the older ones stay for decryption. */
void fr_resume_set_key(struct ferrule_config *cfg, const uint8_t *name, const uint8_t *key);
void fr_resume_conn_free(struct ferrule_conn *c);
/* Strict parse of a session blob (pointers into blob). */
FR_MUST_CHECK fr_err fr_session_parse(const uint8_t *blob, size_t len, fr_session *s);
/* Client: the session blob of the kept ticket (caller holds FR_LOCK_CONN_ERR):
 * *len is its size; written to out when cap allows, else
 * FERRULE_R_BUFFER_TOO_SMALL.  FERRULE_R_WRONG_STATE without a ticket. */
FR_MUST_CHECK fr_err fr_client_session_blob(struct ferrule_conn *c, uint8_t *out, size_t cap,
                                            size_t *len);

#endif
