/* server_select.c (ABI) - configuration of the server's certificate and
 * ALPN selection, and the read-only ClientHello view handed to the
 * selection callbacks (core/hs/server_select.c, core/hs/hello_view.c,
 * docs/server-callbacks.md). */
#include "abi.h"

FERRULE_API int ferrule_config_set_sni_policy(ferrule_config *cfg, uint32_t policy) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    return fr_abi_setter_result(cfg, fr_cfg_set_sni_policy(cfg, policy));
}

FERRULE_API size_t ferrule_config_chain_count(const ferrule_config *cfg) {
    return cfg != NULL ? fr_cfg_chain_count(cfg) : 0;
}

FERRULE_API int ferrule_config_set_cert_select_callback(
    ferrule_config *cfg, int (*cb)(void *, const ferrule_conn *, const ferrule_client_hello *),
    void *ctx) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    fr_cfg_set_cert_select(cfg, cb, ctx);
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API int ferrule_config_set_alpn_select_callback(
    ferrule_config *cfg,
    int (*cb)(void *, const ferrule_conn *, const ferrule_client_hello *, const uint8_t **,
              size_t *),
    void *ctx) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    fr_cfg_set_alpn_select(cfg, cb, ctx);
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API const char *ferrule_client_hello_server_name(const ferrule_client_hello *h) {
    return h != NULL ? fr_hello_server_name(h) : NULL;
}

FERRULE_API const uint16_t *ferrule_client_hello_signature_schemes(const ferrule_client_hello *h,
                                                                   size_t *n) {
    if (n != NULL) *n = 0;
    if (h == NULL || n == NULL) return NULL;
    return fr_hello_signature_schemes(h, n);
}

FERRULE_API const uint16_t *ferrule_client_hello_signature_schemes_cert(
    const ferrule_client_hello *h, size_t *n) {
    if (n != NULL) *n = 0;
    if (h == NULL || n == NULL) return NULL;
    return fr_hello_signature_schemes_cert(h, n);
}

FERRULE_API const uint16_t *ferrule_client_hello_cipher_suites(const ferrule_client_hello *h,
                                                               size_t *n) {
    if (n != NULL) *n = 0;
    if (h == NULL || n == NULL) return NULL;
    return fr_hello_cipher_suites(h, n);
}

FERRULE_API size_t ferrule_client_hello_alpn_count(const ferrule_client_hello *h) {
    return h != NULL ? fr_hello_alpn_count(h) : 0;
}

FERRULE_API int ferrule_client_hello_alpn(const ferrule_client_hello *h, size_t index,
                                          const uint8_t **proto, size_t *len) {
    if (proto != NULL) *proto = NULL;
    if (len != NULL) *len = 0;
    if (h == NULL || proto == NULL || len == NULL || index >= fr_hello_alpn_count(h))
        return FERRULE_USAGE;
    /* In range, the only failure is the allocation of the names' index. */
    return fr_hello_alpn(h, index, proto, len) == FR_OK ? FERRULE_OK : FERRULE_POLICY;
}

FERRULE_API uint32_t ferrule_client_hello_chain_fit(const ferrule_client_hello *h,
                                                    size_t chain_index) {
    return fr_chain_fit(h, chain_index, NULL);
}

FERRULE_API int ferrule_conn_cert_index(const ferrule_conn *c) {
    return c != NULL ? fr_conn_cert_index(c) : -1;
}
