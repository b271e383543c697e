/* key_update.h - KeyUpdate state (RFC 8446 §4.6.3, §5.5).  See
 * docs/key-update.md for the limits chosen and why. */
#ifndef FR_KEY_UPDATE_H
#define FR_KEY_UPDATE_H
#include <stdatomic.h>
#include <stdint.h>

#include "common.h"

/* Records protected under one write key before an automatic KeyUpdate.
 * RFC 8446 §5.5 / RFC 9147 §4.5.3: AES-GCM may protect about 2^24.5
 * full-size records per key before the confidentiality margin is lost
 * (ChaCha20-Poly1305 has no practical confidentiality limit; we use the
 * same figure for every suite).  2^24 stays below the AES-GCM figure.
 * This is also the largest value ferrule_config_set_key_update_interval
 * accepts. */
#define FR_KU_DEFAULT_INTERVAL ((uint64_t)1 << 24)
/* KeyUpdates tolerated from the peer with no application data record in
 * between (RFC 8446 sets no number; each costs us two HKDF derivations and
 * a cipher context, so an endless stream must be cut off). */
#define FR_KU_MAX_CONSECUTIVE 32u
/* Cap of our outstanding update_requested count (saturates). */
#define FR_KU_MAX_REQUESTED 0xffffu

typedef struct fr_ku_config {
    uint64_t interval; /* records per key before an automatic update; 0 = default */
} fr_ku_config;

typedef struct fr_ku_conn {
    /* Read without locks by the ABI getters. */
    _Atomic uint64_t sent;     /* written by the send half */
    _Atomic uint64_t received; /* written by the receive half */
    /* KeyUpdate(update_requested) we sent that the peer has not yet
     * answered: the next that many KeyUpdates received are answers and do
     * not count against the flood bound.  Send half increments, receive
     * half decrements. */
    _Atomic uint32_t requested;
    /* KeyUpdates received since the last application data record (receive
     * half only). */
    unsigned consecutive;
} fr_ku_conn;

/* The automatic-update interval in effect for a config value (0 = default). */
uint64_t fr_ku_interval(const fr_ku_config *k);

struct ferrule_conn;
/* Send half (caller holds wr_lock), connected, close_notify not sent:
 * perform pending output (an owed KeyUpdate answer first), then send
 * KeyUpdate(update_requested = request) and switch to the next write
 * secret.  A failure is recorded on the connection. */
FR_MUST_CHECK fr_err fr_ku_initiate(struct ferrule_conn *c, int request);
/* Send half, before each application data record: once the current write
 * key has protected `interval` records, send KeyUpdate(update_not_requested)
 * (RFC 8446 §5.5).  Returns FR_OK or the sender's error (not recorded). */
FR_MUST_CHECK fr_err fr_ku_before_app_record(struct ferrule_conn *c);
#endif
