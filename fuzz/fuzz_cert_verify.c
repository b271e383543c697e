/*
 * fuzz_cert_verify.c - the client's CertificateVerify handler
 * (core/hs/certificate_verify.c: scheme, signature vector, key usage, the
 * scheme/key match and the signature over the signed content) on one
 * plaintext body, through fr_dispatch in state WAIT_CERTIFICATE_VERIFY with
 * the embedded leaf (ECDSA P-256) as the server's certificate and a fixed
 * transcript hash (fuzz_hs_suite: th_before[i] = 0x11 + i, SHA-256).
 * Input: the CertificateVerify body.  The seeds hold real signatures over
 * that content (gen_seeds.c `parsers`), so mutations start from an
 * accepted message.
 * Checks: a known reason or success; success only with the one scheme
 * that fits the leaf's key (ecdsa_secp256r1_sha256) and leads to
 * WAIT_FINISHED.
 */
#include "fuzz_hs.h"

#include "x509/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fr_conn *c = fuzz_hs_client_after_hello();
    fuzz_hs_suite(c, 0x1301, FR_HASH_SHA256, 32);
    size_t len;
    const uint8_t *der = fuzz_leaf_der(&len);
    fr_cert *leaf = NULL;
    FUZZ_CHECK(fr_cert_parse(&c->mem, der, len, &leaf) == FR_OK);
    FUZZ_CHECK(fr_conn_add_peer_cert(c, leaf) == FR_OK);
    fuzz_hs_at(c, FERRULE_HS_WAIT_CERTIFICATE_VERIFY);
    fr_err e = fuzz_hs_dispatch(c, 15, data, size);
    if (e == FR_OK) {
        FUZZ_CHECK(size >= 2 && data[0] == 0x04 && data[1] == 0x03);
        FUZZ_CHECK(c->state == FERRULE_HS_WAIT_FINISHED);
    }
    ferrule_conn_free(c);
    return 0;
}
