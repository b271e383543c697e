/*
 * fuzz_hs.h - helpers of the per-message targets (fuzz_client_hello,
 * fuzz_server_hello, fuzz_ext, fuzz_certificate, fuzz_cert_verify,
 * fuzz_nst): they skip the record layer and hand one plaintext handshake
 * message to the internal dispatcher fr_dispatch (core/state.c), which runs
 * the message's handler (the parser, then the checks and actions behind it)
 * in the state the target put the connection in.  So the fuzzer mutates the
 * message itself, after the encryption that stops the engine targets.
 *
 * Putting a connection in a state (fuzz_hs_at): the targets set c->state
 * directly, which only state.c does in the library; the fields a handler
 * reads that earlier messages would have set are set by each target.  The
 * transcript is left off (th_ready 0): fr_dispatch then does not hash, and
 * th_before stays what the target wrote there.
 */
#ifndef FUZZ_HS_H
#define FUZZ_HS_H

#include "fuzz_common.h"

#include "conn.h"
#include "engine.h"

/* Every core result is FR_OK or a documented reason. */
FUZZ_FN void fuzz_check_reason(fr_err e) {
    if (e == FR_OK) return;
    FUZZ_CHECK(strcmp(fr_reason_name(e), "unknown") != 0);
}

/* The progress of the last fuzz_hs_dispatch (FR_PROGRESS_WANT_APP: the
 * handler paused for a decision of the host, the state did not move). */
FUZZ_FN fr_progress fuzz_hs_progress;

/* Dispatch `body` as a handshake message of `type` (the 4-byte header is
 * added here, in an exact-size heap copy so ASan sees overreads).  Checks
 * the result is a known reason and that the state moved only on success. */
FUZZ_FN fr_err fuzz_hs_dispatch(fr_conn *c, uint8_t type, const uint8_t *body, size_t n) {
    if (n > 0xffffff) n = 0xffffff;
    uint8_t *msg = malloc(n + 4);
    FUZZ_CHECK(msg != NULL);
    msg[0] = type;
    msg[1] = (uint8_t)(n >> 16);
    msg[2] = (uint8_t)(n >> 8);
    msg[3] = (uint8_t)n;
    if (n > 0) memcpy(msg + 4, body, n);
    uint32_t before = c->state;
    fr_progress pr;
    fr_err e = fr_dispatch(c, msg, n + 4, &pr);
    fuzz_hs_progress = pr;
    fuzz_check_reason(e);
    if (e != FR_OK) FUZZ_CHECK(c->state == before);
    FUZZ_CHECK(c->cur_msg == NULL);
    free(msg);
    return e;
}

/* Put a connection in handshake state `st` (see the file comment). */
FUZZ_FN void fuzz_hs_at(fr_conn *c, uint32_t st) { c->state = st; }

/* The key schedule's hash as a handshake under `suite` would set it, and
 * a fixed "transcript hash before this message". */
FUZZ_FN void fuzz_hs_suite(fr_conn *c, uint16_t suite, int hash, size_t hlen) {
    c->suite = suite;
    c->version = FERRULE_TLS13;
    c->ks.hash = hash;
    c->ks.hlen = hlen;
    for (size_t i = 0; i < sizeof(c->th_before); i++) c->th_before[i] = (uint8_t)(0x11 + i);
}

/* The fuzz client's ClientHello (deterministic: fuzz_rng_reset first) has
 * been sent and discarded: c waits for the ServerHello. */
FUZZ_FN fr_conn *fuzz_hs_client_after_hello(void) {
    static uint8_t sink[32768];
    (void)fuzz_client_config();
    fuzz_rng_reset();
    fuzz_rng_select(FUZZ_RNG_CLIENT);
    ferrule_conn *c = fuzz_client_conn();
    FUZZ_CHECK(ferrule_conn_handshake(c) == FERRULE_WANT_READ);
    fuzz_drain(c, sink, sizeof(sink));
    FUZZ_CHECK(c->state == FERRULE_HS_WAIT_SERVER_HELLO);
    return c;
}

/* Certificate k (0 the leaf, 1 the root) of the embedded chain
 * (test_cert.h, FUZZ_LEAF_CHAIN_PEM) decoded from base64 into der[cap];
 * its length. */
FUZZ_FN size_t fuzz_chain_der(unsigned k, uint8_t *der, size_t cap) {
    const char *b = FUZZ_LEAF_CHAIN_PEM;
    for (unsigned i = 0; i <= k; i++) {
        b = strstr(i == 0 ? b : b + 1, "-----BEGIN CERTIFICATE-----");
        FUZZ_CHECK(b != NULL);
    }
    b += strlen("-----BEGIN CERTIFICATE-----");
    const char *e = strstr(b, "-----END CERTIFICATE-----");
    FUZZ_CHECK(e != NULL);
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (const char *p = b; p < e; p++) {
        const char *q = *p ? strchr(al, *p) : NULL;
        if (q == NULL) continue; /* newlines, '=' */
        acc = acc << 6 | (uint32_t)(q - al);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            FUZZ_CHECK(n < cap);
            der[n++] = (uint8_t)(acc >> bits);
        }
    }
    return n;
}

/* The embedded leaf as DER, decoded once. */
FUZZ_FN const uint8_t *fuzz_leaf_der(size_t *len) {
    static uint8_t der[4096];
    static size_t der_len;
    if (der_len == 0) der_len = fuzz_chain_der(0, der, sizeof(der));
    *len = der_len;
    return der;
}

#endif
