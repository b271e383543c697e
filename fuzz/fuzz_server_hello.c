/*
 * fuzz_server_hello.c - the client's ServerHello / HelloRetryRequest
 * handler (core/hs/server_hello.c: parse_server_hello, the legacy-field and
 * extension checks, the key share, the PSK answer; hello_retry.c for an
 * HRR) on one plaintext body, through fr_dispatch (fuzz_hs.h), after the
 * fuzz client's deterministic ClientHello (so a ServerHello recorded
 * against it derives the handshake keys).
 * Input: the ServerHello body (no handshake header).
 * Checks: a known reason or success; success leads to EncryptedExtensions
 * (ServerHello) or back to ServerHello with a second ClientHello queued
 * (HRR).
 */
#include "fuzz_hs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fr_conn *c = fuzz_hs_client_after_hello();
    fr_err e = fuzz_hs_dispatch(c, 2, data, size);
    if (e == FR_OK) {
        FUZZ_CHECK(c->state == FERRULE_HS_WAIT_ENCRYPTED_EXTENSIONS ||
                   c->state == FERRULE_HS_WAIT_SERVER_HELLO);
        if (c->state == FERRULE_HS_WAIT_ENCRYPTED_EXTENSIONS)
            FUZZ_CHECK(c->version == FERRULE_TLS13 && c->suite != 0);
    }
    ferrule_conn_free(c);
    return 0;
}
