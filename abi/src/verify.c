/* verify.c (ABI) - standalone chain validation and the result object. */
#include "abi.h"
#include "host.h"

FERRULE_API size_t ferrule_sizeof_verify_options(void) { return sizeof(ferrule_verify_options); }

FERRULE_API int ferrule_verify_chain(const ferrule_config *cfg, const uint8_t *const *ders,
                                     const size_t *lens, size_t n,
                                     const ferrule_verify_options *opts,
                                     ferrule_verify_result **out) {
    if (out == NULL) return FERRULE_USAGE;
    *out = NULL;
    if (cfg == NULL || ders == NULL || lens == NULL || n == 0) return FERRULE_USAGE;
    for (size_t i = 0; i < n; i++)
        if (ders[i] == NULL || lens[i] == 0) return FERRULE_USAGE;
    ferrule_verify_options o;
    if (fr_abi_copy_struct(&o, sizeof(o), opts) != FR_OK) return FERRULE_USAGE;
    if (o.purpose > FERRULE_PURPOSE_CLIENT_AUTH ||
        (o.flags & ~(FERRULE_VERIFY_USE_TIME | FERRULE_VERIFY_CN_IN_SAN)) != 0 ||
        o.max_depth > FR_VERIFY_MAX_DEPTH)
        return FERRULE_USAGE;
    if (o.n_crls != 0 && (o.crls == NULL || o.crl_lens == NULL)) return FERRULE_USAGE;
    for (size_t i = 0; i < o.n_crls && i < FR_VERIFY_MAX_CRLS; i++)
        if (o.crls[i] == NULL || o.crl_lens[i] == 0) return FERRULE_USAGE;

    /* The result (and its path copies) belong to the config's allocator;
     * the parsed chain is temporary. */
    fr_mem *m = (fr_mem *)&cfg->mem;
    fr_verify_params p;
    fr_config_verify_params(cfg, &p);
    p.purpose = o.purpose == FERRULE_PURPOSE_CLIENT_AUTH ? FR_VERIFY_CLIENT : FR_VERIFY_SERVER;
    if (o.max_depth != 0) p.max_depth = o.max_depth;
    if (o.flags & FERRULE_VERIFY_USE_TIME)
        p.now = o.time;
    else
        p.now = fr_abi_now(cfg);
    p.peer_name = o.peer_name;
    if (o.flags & FERRULE_VERIFY_CN_IN_SAN) p.cn_in_san = 1;

    /* More certificates than any path builder should look at: a result
     * that says so (the handshake caps the peer's list at
     * max_peer_certs, at most as many; standalone callers may pass more, e.g. the limbo
     * suite's 100-certificate hostile chains). */
    fr_cert *chain[FR_VERIFY_MAX_INPUT];
    fr_crl *crls[FR_VERIFY_MAX_CRLS];
    size_t parsed = 0, parsed_crls = 0;
    fr_err e = n > FR_VERIFY_MAX_INPUT || o.n_crls > FR_VERIFY_MAX_CRLS
                   ? FERRULE_R_CERT_TOO_MUCH_WORK
                   : FR_OK;
    for (size_t i = 0; i < n && e == FR_OK; i++) {
        e = fr_cert_parse(m, ders[i], lens[i], &chain[i]);
        if (e == FR_OK) parsed++;
    }
    /* A CRL that does not parse fails the validation: the caller asked
     * for revocation checking and we cannot do it. */
    for (size_t i = 0; i < o.n_crls && e == FR_OK; i++) {
        e = fr_crl_parse(m, o.crls[i], o.crl_lens[i], &crls[i]);
        if (e == FR_OK) parsed_crls++;
    }
    p.crls = (const fr_crl *const *)crls;
    p.n_crls = parsed_crls;
    ferrule_verify_result *r = NULL;
    if (e == FR_OK) {
        e = fr_verify_chain_result(&cfg->trust, chain, n, &p, m, &r);
    } else {
        /* A certificate that does not parse: a result that says so. */
        r = fr_mem_alloc(m, sizeof(*r));
        if (r != NULL) {
            r->mem = m;
            r->reason = e;
        }
    }
    for (size_t i = 0; i < parsed; i++) fr_cert_free(m, chain[i]);
    for (size_t i = 0; i < parsed_crls; i++) fr_crl_free(m, crls[i]);
    if (r == NULL) return FERRULE_INTERNAL;
    *out = r;
    return e == FR_OK ? FERRULE_OK : fr_err_class(e);
}

FERRULE_API uint32_t ferrule_verify_result_reason(const ferrule_verify_result *r) {
    return r != NULL ? r->reason : FERRULE_R_NULL_ARGUMENT;
}
FERRULE_API size_t ferrule_verify_result_path_length(const ferrule_verify_result *r) {
    return r != NULL ? r->n : 0;
}
FERRULE_API int ferrule_verify_result_path_cert(const ferrule_verify_result *r, size_t index,
                                                const uint8_t **der, size_t *len) {
    if (r == NULL || der == NULL || len == NULL || index >= r->n) return FERRULE_USAGE;
    *der = r->ders[index];
    *len = r->lens[index];
    return FERRULE_OK;
}
FERRULE_API void ferrule_verify_result_free(ferrule_verify_result *r) { fr_verify_result_free(r); }

FERRULE_API const ferrule_verify_result *ferrule_conn_verify_result(const ferrule_conn *c) {
    return c != NULL && c->verify_result != NULL && c->verify_result->reason == FR_OK
               ? c->verify_result
               : NULL;
}
FERRULE_API int ferrule_conn_ocsp_stapled(const ferrule_conn *c) {
    return c != NULL ? fr_conn_ocsp_stapled(c) : 0;
}
