/* hello_view.c - what the host reads of the server's ClientHello view
 * (engine.h, "server selection"), and the selection settings of a config.
 * The view's wire lists are read in place by the core; the getters decode
 * a copy of a list into the connection's memory on first use, kept with
 * the view (fr_hello_lists) and freed with it. */
#include "../conn.h"

/* ---- the selection settings of a config ------------------------------------ */

fr_err fr_cfg_set_sni_policy(fr_config *cfg, uint32_t policy) {
    FR_ENSURE(policy == FERRULE_SNI_FALLBACK || policy == FERRULE_SNI_STRICT,
              FERRULE_R_CONFIG_INVALID);
    cfg->select.sni_policy = policy;
    return FR_OK;
}

size_t fr_cfg_chain_count(const fr_config *cfg) { return cfg->n_chains; }

void fr_cfg_set_cert_select(fr_config *cfg, fr_cert_select_fn cb, void *ctx) {
    cfg->select.cert_cb = cb;
    cfg->select.cert_ctx = cb != NULL ? ctx : NULL;
}

void fr_cfg_set_alpn_select(fr_config *cfg, fr_alpn_select_fn cb, void *ctx) {
    cfg->select.alpn_cb = cb;
    cfg->select.alpn_ctx = cb != NULL ? ctx : NULL;
}

int fr_conn_cert_index(const fr_conn *c) {
    if (c->our_chain == NULL || c->resume.resumed) return -1;
    return (int)(c->our_chain - c->cfg->chains);
}

/* ---- the view ---------------------------------------------------------------- */

const char *fr_hello_server_name(const fr_client_hello *h) { return h->server_name; }

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

const uint16_t *fr_hello_signature_schemes(const fr_client_hello *h, size_t *n) {
    return decoded(h->lists, h->sigs, &h->lists->sigs, &h->lists->sigs_cap, n);
}

const uint16_t *fr_hello_signature_schemes_cert(const fr_client_hello *h, size_t *n) {
    return decoded(h->lists, h->sigs_cert, &h->lists->sigs_cert, &h->lists->sigs_cert_cap, n);
}

const uint16_t *fr_hello_cipher_suites(const fr_client_hello *h, size_t *n) {
    return decoded(h->lists, h->suites, &h->lists->suites, &h->lists->suites_cap, n);
}

size_t fr_hello_alpn_count(const fr_client_hello *h) { return h->n_alpn; }

fr_err fr_hello_alpn(const fr_client_hello *h, size_t index, const uint8_t **proto, size_t *len) {
    *proto = NULL;
    *len = 0;
    FR_ENSURE(index < h->n_alpn, FERRULE_R_NOT_FOUND);
    fr_hello_lists *l = h->lists;
    if (l->alpn_off == NULL) {
        /* Offsets of every name, once: any index is then O(1).  They fit:
         * the list is at most 2^16-1 bytes. */
        l->alpn_off = fr_mem_alloc(l->mem, 2 * h->n_alpn);
        FR_ENSURE(l->alpn_off != NULL, fr_mem_error(l->mem, 2 * h->n_alpn));
        l->alpn_cap = 2 * h->n_alpn;
        size_t total = fr_reader_left(&h->alpn), i = 0;
        for (size_t off = 0; off < total; off += 1u + h->alpn.p[off]) l->alpn_off[i++] = (uint16_t)off;
    }
    const uint8_t *p = h->alpn.p + l->alpn_off[index];
    *proto = p + 1;
    *len = p[0];
    return FR_OK;
}
