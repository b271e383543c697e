/*
 * units.c - the timing harness's access to the core functions that are
 * static in their file: the PSK binder check (core/hs/psk.c) and ticket
 * sealing (core/hs/ticket.c).  Both files are compiled into this unit as
 * they are, so the harness measures the library's own code, not a copy of
 * it; the harness links this object before libferrule.a, whose psk.o and
 * ticket.o are then never pulled in (every symbol they define is here).
 */
#include "../core/hs/psk.c"
#include "../core/hs/ticket.c"

#include "units.h"

fr_err tm_ticket_seal(fr_config *cfg, uint8_t *out, size_t state_len) {
    return ticket_seal(cfg, out, state_len);
}

size_t tm_ticket_overhead(void) { return TICKET_OVERHEAD; }

/* A ClientHello prefix of `partial` bytes followed by the binders list
 * (one binder of `binder_len` bytes): the shape check_binder reads. */
fr_err tm_binder_check(fr_conn *c, const uint8_t *binders_start, size_t binders_len,
                       const uint8_t *psk, size_t psk_len) {
    offered_psks o;
    memset(&o, 0, sizeof(o));
    o.binders_start = binders_start;
    fr_reader all = fr_reader_init(binders_start, binders_len);
    FR_TRY(fr_read_vec16(&all, &o.binders));
    o.n = 1;
    fr_ticket_state st;
    memset(&st, 0, sizeof(st));
    memcpy(st.psk, psk, psk_len);
    st.psk_len = psk_len;
    fr_reader binder;
    fr_err e = check_binder(c, &o, 0, &st, &binder);
    fr_wipe(&st, sizeof(st));
    return e;
}
