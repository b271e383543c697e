/*
 * fuzz_session.c - the session blob import (core/hs/session.c
 * fr_session_parse behind ferrule_conn_set_session and
 * ferrule_session_max_early_data), then the ClientHello that offers it
 * (psk.c: fr_client_session_usable, the identity, the binder).
 * Input: a session blob (as ferrule_conn_session writes it).
 * Checks: the three readers agree (set_session accepts only what
 * fr_session_parse accepts; max_early_data answers exactly then, with the
 * parsed value), and the handshake starts either way (the offer is dropped
 * when unusable, never an error).
 */
#include "fuzz_hs.h"

#include "hs/resume.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint8_t sink[32768];
    fr_session sess;
    fr_err pe = fr_session_parse(data, size, &sess);
    fuzz_check_reason(pe);
    uint32_t max = 7;
    int ms = ferrule_session_max_early_data(data, size, &max);
    if (pe == FR_OK)
        FUZZ_CHECK(ms == FERRULE_OK && max == sess.max_early);
    else
        FUZZ_CHECK(ms == FERRULE_USAGE && max == 0);
    (void)fuzz_client_config();
    fuzz_rng_reset();
    fuzz_rng_select(FUZZ_RNG_CLIENT);
    ferrule_conn *c = fuzz_client_conn();
    int s = ferrule_conn_set_session(c, data, size);
    FUZZ_CHECK(s == FERRULE_OK || s == FERRULE_USAGE);
    if (pe != FR_OK) FUZZ_CHECK(s == FERRULE_USAGE);
    FUZZ_CHECK(ferrule_conn_handshake(c) == FERRULE_WANT_READ);
    FUZZ_CHECK(ferrule_conn_pending_output(c) > 0);
    fuzz_drain(c, sink, sizeof(sink));
    ferrule_conn_free(c);
    return 0;
}
