/* verify.c (ABI) - standalone chain validation and the result object
 * (the validation itself: core/config.c, fr_cfg_verify_chain). */
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
    fr_verify_request q = {.purpose = o.purpose, .flags = o.flags, .max_depth = o.max_depth,
                           .peer_name = o.peer_name, .crls = o.crls, .crl_lens = o.crl_lens,
                           .n_crls = o.n_crls};
    if (fr_verify_request_check(&q) != FR_OK) return FERRULE_USAGE;
    q.now = (o.flags & FERRULE_VERIFY_USE_TIME) ? o.time : fr_abi_now(cfg);
    ferrule_verify_result *r;
    fr_err e = fr_cfg_verify_chain(cfg, ders, lens, n, &q, &r);
    if (r == NULL) return FERRULE_INTERNAL;
    *out = r;
    return e == FR_OK ? FERRULE_OK : fr_err_class(e);
}

FERRULE_API uint32_t ferrule_verify_result_reason(const ferrule_verify_result *r) {
    return r != NULL ? fr_verify_result_reason(r) : FERRULE_R_NULL_ARGUMENT;
}
FERRULE_API size_t ferrule_verify_result_path_length(const ferrule_verify_result *r) {
    return r != NULL ? fr_verify_result_path_length(r) : 0;
}
FERRULE_API int ferrule_verify_result_path_cert(const ferrule_verify_result *r, size_t index,
                                                const uint8_t **der, size_t *len) {
    if (r == NULL || der == NULL || len == NULL) return FERRULE_USAGE;
    return fr_verify_result_path_cert(r, index, der, len) ? FERRULE_OK : FERRULE_USAGE;
}
FERRULE_API void ferrule_verify_result_free(ferrule_verify_result *r) { fr_verify_result_free(r); }

FERRULE_API const ferrule_verify_result *ferrule_conn_verify_result(const ferrule_conn *c) {
    return c != NULL ? fr_conn_verify_result(c) : NULL;
}
FERRULE_API int ferrule_conn_ocsp_stapled(const ferrule_conn *c) {
    return c != NULL ? fr_conn_ocsp_stapled(c) : 0;
}

FERRULE_API void ferrule_conn_peer_ocsp_response(const ferrule_conn *c, const uint8_t **der,
                                                 size_t *len) {
    if (der != NULL) *der = NULL;
    if (len != NULL) *len = 0;
    if (c == NULL || der == NULL || len == NULL) return;
    fr_conn_peer_ocsp(c, der, len);
}
