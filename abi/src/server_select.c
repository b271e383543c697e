/* server_select.c (ABI) - configuration of the server's certificate and
 * ALPN selection, and the read-only ClientHello view handed to the
 * selection callbacks (core/hs/server_select.c, docs/server-callbacks.md). */
#include "abi.h"

FERRULE_API int ferrule_config_set_sni_policy(ferrule_config *cfg, uint32_t policy) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    if (policy != FERRULE_SNI_FALLBACK && policy != FERRULE_SNI_STRICT)
        return fr_abi_setter_result(cfg, FERRULE_R_CONFIG_INVALID);
    cfg->select.sni_policy = policy;
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API size_t ferrule_config_chain_count(const ferrule_config *cfg) {
    return cfg != NULL ? cfg->n_chains : 0;
}

FERRULE_API int ferrule_config_set_cert_select_callback(
    ferrule_config *cfg, int (*cb)(void *, const ferrule_conn *, const ferrule_client_hello *),
    void *ctx) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    cfg->select.cert_cb = cb;
    cfg->select.cert_ctx = cb != NULL ? ctx : NULL;
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API int ferrule_config_set_alpn_select_callback(
    ferrule_config *cfg,
    int (*cb)(void *, const ferrule_conn *, const ferrule_client_hello *, const uint8_t **,
              size_t *),
    void *ctx) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    cfg->select.alpn_cb = cb;
    cfg->select.alpn_ctx = cb != NULL ? ctx : NULL;
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API const char *ferrule_client_hello_server_name(const ferrule_client_hello *h) {
    return h != NULL ? h->server_name : NULL;
}

static const uint16_t *list_out(const uint16_t *list, size_t count, size_t *n) {
    if (n != NULL) *n = count;
    return list;
}

FERRULE_API const uint16_t *ferrule_client_hello_signature_schemes(const ferrule_client_hello *h,
                                                                   size_t *n) {
    if (h == NULL || n == NULL) return list_out(NULL, 0, n);
    return list_out(h->sigs, h->n_sigs, n);
}

FERRULE_API const uint16_t *ferrule_client_hello_signature_schemes_cert(
    const ferrule_client_hello *h, size_t *n) {
    if (h == NULL || n == NULL) return list_out(NULL, 0, n);
    return list_out(h->sigs_cert, h->n_sigs_cert, n);
}

FERRULE_API const uint16_t *ferrule_client_hello_cipher_suites(const ferrule_client_hello *h,
                                                               size_t *n) {
    if (h == NULL || n == NULL) return list_out(NULL, 0, n);
    return list_out(h->suites, h->n_suites, n);
}

FERRULE_API size_t ferrule_client_hello_alpn_count(const ferrule_client_hello *h) {
    return h != NULL ? h->n_alpn : 0;
}

FERRULE_API int ferrule_client_hello_alpn(const ferrule_client_hello *h, size_t index,
                                          const uint8_t **proto, size_t *len) {
    if (proto != NULL) *proto = NULL;
    if (len != NULL) *len = 0;
    if (h == NULL || proto == NULL || len == NULL || index >= h->n_alpn) return FERRULE_USAGE;
    const uint8_t *p = h->alpn + h->alpn_off[index];
    *proto = p + 1;
    *len = p[0];
    return FERRULE_OK;
}

FERRULE_API uint32_t ferrule_client_hello_chain_fit(const ferrule_client_hello *h,
                                                    size_t chain_index) {
    return fr_chain_fit(h, chain_index, NULL);
}

FERRULE_API int ferrule_conn_cert_index(const ferrule_conn *c) {
    if (c == NULL || c->our_chain == NULL || c->resume.resumed) return -1;
    return (int)(c->our_chain - c->cfg->chains);
}
