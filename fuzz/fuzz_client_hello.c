/*
 * fuzz_client_hello.c - the server's ClientHello handler
 * (core/hs/client_hello.c: ch_parse, negotiation, server_select.c, PSK and
 * ticket opening in psk.c/ticket.c, 0-RTT, HelloRetryRequest) on one
 * plaintext ClientHello body, through fr_dispatch (fuzz_hs.h).
 * Input: the ClientHello body (no handshake header).
 * Checks: a known reason or success; on success the state moved on and the
 * server has its answer (ServerHello flight or HelloRetryRequest) queued,
 * unless the handler paused for a decision of the host (then the state
 * stays).
 */
#include "fuzz_hs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_rng_reset();
    (void)fuzz_server_config();
    fuzz_rng_reset();
    fuzz_rng_select(FUZZ_RNG_SERVER);
    ferrule_conn *c = fuzz_server_conn();
    FUZZ_CHECK(ferrule_conn_handshake(c) == FERRULE_WANT_READ);
    FUZZ_CHECK(c->state == FERRULE_HS_WAIT_CLIENT_HELLO);
    fr_err e = fuzz_hs_dispatch(c, 1, data, size);
    if (getenv("FUZZ_DEBUG") != NULL)
        fprintf(stderr, "fuzz_client_hello: %s, state %u, progress %d\n", fr_reason_name(e),
                (unsigned)c->state, (int)fuzz_hs_progress);
    if (e == FR_OK && fuzz_hs_progress != FR_PROGRESS_WANT_APP) {
        FUZZ_CHECK(c->state != FERRULE_HS_WAIT_CLIENT_HELLO);
        FUZZ_CHECK(ferrule_conn_pending_output(c) > 0);
    } else if (e == FR_OK) {
        /* Paused for a decision of the host (the 0-RTT replay check): the
         * state waits for the answer. */
        FUZZ_CHECK(c->state == FERRULE_HS_WAIT_CLIENT_HELLO);
    }
    ferrule_conn_free(c);
    return 0;
}
