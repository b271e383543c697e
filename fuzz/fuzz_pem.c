/*
 * fuzz_pem.c - the PEM reader (base64, BEGIN/END framing) feeding the DER
 * parser: fr_trust_add_pem into a throwaway store, and fr_pem_each_cert_m.
 * Checks: no crash, fr_mem accounting back to zero after the store is freed.
 */
#include "fuzz_common.h"

#include "x509/x509.h"

static fr_err count_cb(void *ctx, const uint8_t *der, size_t len) {
    size_t *n = ctx;
    FUZZ_CHECK(der != NULL || len == 0);
    (*n)++;
    return FR_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fr_mem m;
    fr_mem_init(&m, NULL, 4u << 20);
    fr_trust_store t;
    fr_trust_init(&t);
    fr_err e = fr_trust_add_pem(&m, &t, data, size);
    if (e == FR_OK) FUZZ_CHECK(t.n > 0);
    fr_trust_free(&m, &t);
    FUZZ_CHECK(m.used == 0);

    size_t blocks = 0;
    e = fr_pem_each_cert(&m, data, size, count_cb, &blocks);
    if (e == FR_OK) FUZZ_CHECK(blocks > 0);
    FUZZ_CHECK(m.used == 0);
    return 0;
}
