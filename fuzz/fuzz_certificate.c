/*
 * fuzz_certificate.c - the client's Certificate handler (core/hs/
 * certificate.c: the certificate_request_context, the CertificateEntry
 * list and its extensions, the OCSP staple in status_request, every
 * certificate through fr_cert_parse, then path validation against the
 * embedded root at FUZZ_NOW for "localhost" and the staple's policy) on one
 * plaintext body, through fr_dispatch in state WAIT_CERTIFICATE.
 * Input: byte 0 bit 0 = we asked for a staple (status_request), then the
 * Certificate body.
 * Checks: a known reason or success; success means a chain was taken
 * (peer certificates present) and the state is WAIT_CERTIFICATE_VERIFY.
 */
#include "fuzz_hs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    fr_conn *c = fuzz_hs_client_after_hello();
    fuzz_hs_suite(c, 0x1301, FR_HASH_SHA256, 32);
    c->sent_status_request = data[0] & 1;
    fuzz_hs_at(c, FERRULE_HS_WAIT_CERTIFICATE);
    fr_err e = fuzz_hs_dispatch(c, 11, data + 1, size - 1);
    if (e == FR_OK) {
        FUZZ_CHECK(c->state == FERRULE_HS_WAIT_CERTIFICATE_VERIFY);
        FUZZ_CHECK(c->n_peer_certs > 0);
        FUZZ_CHECK(ferrule_conn_peer_cert_count(c) == c->n_peer_certs);
    }
    ferrule_conn_free(c);
    return 0;
}
