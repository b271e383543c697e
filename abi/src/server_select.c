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

/* A list of the view decoded into the connection's memory on first use
 * (the core reads it in place and never needs the copy). */
static const uint16_t *decoded(fr_hello_lists *l, fr_reader list, uint16_t **slot, size_t *cap,
                               size_t *n) {
    size_t count = fr_reader_left(&list) / 2;
    if (*slot == NULL) {
        *slot = fr_mem_alloc(l->mem, 2 * count);
        if (*slot == NULL) {
            *n = 0;
            return NULL;
        }
        *cap = 2 * count;
        uint16_t v;
        for (size_t i = 0; fr_read_u16(&list, &v) == FR_OK; i++) (*slot)[i] = v;
    }
    *n = count;
    return *slot;
}

FERRULE_API const uint16_t *ferrule_client_hello_signature_schemes(const ferrule_client_hello *h,
                                                                   size_t *n) {
    if (n != NULL) *n = 0;
    if (h == NULL || n == NULL) return NULL;
    return decoded(h->lists, h->sigs, &h->lists->sigs, &h->lists->sigs_cap, n);
}

FERRULE_API const uint16_t *ferrule_client_hello_signature_schemes_cert(
    const ferrule_client_hello *h, size_t *n) {
    if (n != NULL) *n = 0;
    if (h == NULL || n == NULL) return NULL;
    return decoded(h->lists, h->sigs_cert, &h->lists->sigs_cert, &h->lists->sigs_cert_cap, n);
}

FERRULE_API const uint16_t *ferrule_client_hello_cipher_suites(const ferrule_client_hello *h,
                                                               size_t *n) {
    if (n != NULL) *n = 0;
    if (h == NULL || n == NULL) return NULL;
    return decoded(h->lists, h->suites, &h->lists->suites, &h->lists->suites_cap, n);
}

FERRULE_API size_t ferrule_client_hello_alpn_count(const ferrule_client_hello *h) {
    return h != NULL ? h->n_alpn : 0;
}

FERRULE_API int ferrule_client_hello_alpn(const ferrule_client_hello *h, size_t index,
                                          const uint8_t **proto, size_t *len) {
    if (proto != NULL) *proto = NULL;
    if (len != NULL) *len = 0;
    if (h == NULL || proto == NULL || len == NULL || index >= h->n_alpn) return FERRULE_USAGE;
    fr_hello_lists *l = h->lists;
    if (l->alpn_off == NULL) {
        /* Offsets of every name, once: any index is then O(1).  They fit:
         * the list is at most 2^16-1 bytes. */
        l->alpn_off = fr_mem_alloc(l->mem, 2 * h->n_alpn);
        if (l->alpn_off == NULL) return FERRULE_POLICY;
        l->alpn_cap = 2 * h->n_alpn;
        size_t total = fr_reader_left(&h->alpn), i = 0;
        for (size_t off = 0; off < total; off += 1u + h->alpn.p[off]) l->alpn_off[i++] = (uint16_t)off;
    }
    const uint8_t *p = h->alpn.p + l->alpn_off[index];
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
