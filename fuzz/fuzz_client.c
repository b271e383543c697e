/*
 * fuzz_client.c - a fresh client connection that sends its ClientHello
 * (discarded) and is then fed the input as server bytes.
 *
 * Input: byte 0 picks the split points (see fuzz_feed_all), the rest is
 * what a server would send.  The ClientHello comes from the deterministic
 * client stream, so a server flight recorded against it (gen_seeds.c; an
 * openssl s_server answering the same bytes) decrypts and verifies: the
 * fuzzer reaches EncryptedExtensions, Certificate (path building against
 * the embedded root at FUZZ_NOW, name "localhost"), CertificateVerify,
 * Finished and the post-handshake messages.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint8_t sink[32768];
    fuzz_rng_reset();
    (void)fuzz_client_config();
    fuzz_rng_reset();
    fuzz_rng_select(FUZZ_RNG_CLIENT);
    ferrule_conn *c = fuzz_client_conn();
    int s = ferrule_conn_handshake(c);
    FUZZ_CHECK(s == FERRULE_WANT_READ);
    FUZZ_CHECK(ferrule_conn_pending_output(c) > 0);
    fuzz_drain(c, sink, sizeof(sink));
    FUZZ_CHECK(ferrule_conn_pending_output(c) == 0);
    fuzz_feed_all(c, data, size);
    ferrule_conn_free(c);
    return 0;
}
