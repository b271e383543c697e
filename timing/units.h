/* units.h - see units.c. */
#ifndef FR_TIMING_UNITS_H
#define FR_TIMING_UNITS_H

#include "conn.h"

/* ticket.c's ticket_seal: out holds key_name || nonce (filled here), the
 * state_len-byte state (encrypted in place) and room for the tag. */
fr_err tm_ticket_seal(fr_config *cfg, uint8_t *out, size_t state_len);
/* key_name || nonce || tag: a ticket's bytes beyond its state. */
size_t tm_ticket_overhead(void);
/* psk.c's check_binder for identity 0: c->cur_msg / cur_msg_len hold the
 * ClientHello, binders_start points into it at the binders list
 * (binders_len bytes, its 2-byte length included). */
fr_err tm_binder_check(fr_conn *c, const uint8_t *binders_start, size_t binders_len,
                       const uint8_t *psk, size_t psk_len);

#endif
