/*
 * fuzz_server.c - a fresh server connection fed the input as client bytes.
 *
 * Input: byte 0 picks the split points (see fuzz_feed_all), the rest is
 * what a client would send.  The server uses the embedded ECDSA P-256
 * chain and the deterministic random stream, so the seeds recorded by
 * gen_seeds.c (ClientHello .. client Finished .. application data ..
 * close_notify) complete the handshake and the fuzzer mutates every stage.
 * Checks: no crash, every status a documented class, sticky fatal status.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_rng_reset();
    (void)fuzz_server_config(); /* parse the PEMs before the stream is used */
    fuzz_rng_reset();
    fuzz_rng_select(FUZZ_RNG_SERVER);
    ferrule_conn *s = fuzz_server_conn();
    fuzz_feed_all(s, data, size);
    ferrule_conn_free(s);
    return 0;
}
