/*
 * key_update.c - when we send KeyUpdates (RFC 8446 §4.6.3): on the
 * application's request and automatically before the AEAD limits of
 * RFC 8446 §5.5.  The messages themselves are built and parsed in
 * hs/post_handshake.c.  docs/key-update.md explains the figures.
 */
#include "conn.h"

uint64_t fr_ku_interval(const fr_ku_config *k) {
    return k->interval != 0 ? k->interval : FR_KU_DEFAULT_INTERVAL;
}

fr_err fr_ku_initiate(fr_conn *c, int request) {
    /* An answer we owe goes first (RFC 8446 §4.6.3: before our next
     * application data, and our own update must not stand in for an
     * answer that was due earlier). */
    fr_conn_do_pending(c);
    if (c->status != FERRULE_OK) return c->reason;
    FR_ENSURE(c->state == FERRULE_HS_CONNECTED && !c->closed_sent, FERRULE_R_WRONG_STATE);
    fr_err e = fr_send_key_update(c, request);
    return e == FR_OK ? FR_OK : fr_conn_fail(c, e);
}

fr_err fr_ku_before_app_record(fr_conn *c) {
    /* fr_aead.seq counts the records protected under the current write
     * key: after `interval` of them the key is retired.  The KeyUpdate
     * itself is the last record under the old key. */
    if (c->wr.seq < fr_ku_interval(&c->cfg->ku)) return FR_OK;
    return fr_send_key_update(c, 0);
}
