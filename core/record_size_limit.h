/* record_size_limit.h - the record_size_limit extension (RFC 8449) for
 * TLS 1.3: what we advertise, what the peer advertised, and the limits
 * that follow for the records we send and receive.  Included by conn.h;
 * the functions are in record_size_limit.c.  docs/record-size-limit.md
 * explains the choices. */
#ifndef FR_RECORD_SIZE_LIMIT_H
#define FR_RECORD_SIZE_LIMIT_H

#include <stdint.h>

#include "common.h"

/* RFC 8449 §4: values below 64 are illegal; TLS 1.3 allows at most
 * 2^14 + 1 (a full record's content plus its inner content type byte). */
#define FR_RSL_MIN 64u
#define FR_RSL_MAX 16385u

typedef struct fr_rsl_config {
    /* The RecordSizeLimit we advertise, FR_RSL_MIN .. FR_RSL_MAX; 0 means
     * the default FR_RSL_MAX.  The extension is always advertised. */
    uint16_t limit;
} fr_rsl_config;

typedef struct fr_rsl_conn {
    int offered;   /* client: our ClientHello carries the extension */
    uint16_t peer; /* the peer's value (clamped to FR_RSL_MAX); 0 = none */
    /* Set once both endpoints have sent the extension (server: when it
     * writes EncryptedExtensions; client: when it reads them), 0 before
     * that and when it was not negotiated.  Both bound the whole
     * TLSInnerPlaintext (content + type byte + padding) of protected
     * records only (RFC 8449 §4). */
    uint16_t send_limit; /* the peer's value: what we may send */
    uint16_t recv_limit; /* our value: what we accept */
} fr_rsl_conn;

struct ferrule_config;
struct ferrule_conn;

/* The value a config advertises. */
uint16_t fr_rsl_ours(const struct ferrule_config *cfg);
/* Client: append the extension to the ClientHello being written. */
void fr_rsl_client_write(struct ferrule_conn *c, fr_writer *w);
/* Server: the extension from the ClientHello (NULL: absent). */
FR_MUST_CHECK fr_err fr_rsl_server_on_client_hello(struct ferrule_conn *c, fr_reader *body);
/* Server: append our extension to EncryptedExtensions if the client sent
 * one, and start applying both limits (EncryptedExtensions is the first
 * record protected under keys of this handshake). */
void fr_rsl_server_write_ee(struct ferrule_conn *c, fr_writer *w);
/* Client: the extension in EncryptedExtensions. */
FR_MUST_CHECK fr_err fr_rsl_client_on_ee(struct ferrule_conn *c, fr_reader *body);
/* Most content bytes one record we send now may carry (2^14 when no
 * limit applies to the next record). */
size_t fr_rsl_max_fragment(const struct ferrule_conn *c);
/* Check the body length of a protected record we received against the
 * limit we advertised: RECORD_OVERFLOW when over it. */
FR_MUST_CHECK fr_err fr_rsl_check_received(const struct ferrule_conn *c, size_t body_len);

#endif
