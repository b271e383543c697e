/*
 * fuzz_nst.c - the client's NewSessionTicket handler (core/hs/session.c:
 * parse_nst, its extensions (early_data), the lifetime rule, keeping the
 * newest ticket) on one plaintext body, through fr_dispatch on a client in
 * state CONNECTED (TLS_AES_128_GCM_SHA256, resumption secret zero), then
 * the session blob made from the kept ticket.
 * Input: the NewSessionTicket body.
 * Checks: a known reason or success; after a kept ticket (lifetime > 0)
 * ferrule_conn_session gives a blob that fr_session_parse accepts and that
 * carries the ticket's bytes and lifetime; the state stays CONNECTED.
 */
#include "fuzz_hs.h"

#include "hs/resume.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fr_conn *c = fuzz_hs_client_after_hello();
    fuzz_hs_suite(c, 0x1301, FR_HASH_SHA256, 32);
    fuzz_hs_at(c, FERRULE_HS_CONNECTED);
    fr_err e = fuzz_hs_dispatch(c, 4, data, size);
    FUZZ_CHECK(c->state == FERRULE_HS_CONNECTED);
    size_t n = 0;
    int s = ferrule_conn_session(c, NULL, 0, &n);
    if (e == FR_OK && c->resume.have_kept) {
        FUZZ_CHECK(s == FERRULE_USAGE && n > 0); /* buffer_too_small, with the size */
        uint8_t *blob = malloc(n);
        FUZZ_CHECK(blob != NULL);
        size_t got = 0;
        FUZZ_CHECK(ferrule_conn_session(c, blob, n, &got) == FERRULE_OK && got == n);
        fr_session sess;
        FUZZ_CHECK(fr_session_parse(blob, n, &sess) == FR_OK);
        FUZZ_CHECK(sess.ticket_len == c->resume.kept.ticket_len);
        FUZZ_CHECK(memcmp(sess.ticket, c->resume.kept.ticket, sess.ticket_len) == 0);
        FUZZ_CHECK(sess.lifetime == c->resume.kept.lifetime && sess.lifetime > 0);
        FUZZ_CHECK(sess.suite == 0x1301 && sess.psk_len == 32);
        uint32_t max = 1;
        FUZZ_CHECK(ferrule_session_max_early_data(blob, n, &max) == FERRULE_OK);
        FUZZ_CHECK(max == c->resume.kept.max_early);
        free(blob);
    } else {
        FUZZ_CHECK(s == FERRULE_USAGE && !c->resume.have_kept);
    }
    ferrule_conn_free(c);
    return 0;
}
