/* resume.c (ABI) - ticket configuration and the client's session blob
 * (docs/resumption.md); the engine side is core/config.c and
 * core/conn_info.c over core/hs/resume.c. */
#include "abi.h"

FERRULE_API int ferrule_config_set_tickets(ferrule_config *cfg, uint32_t count) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    return fr_abi_setter_result(cfg, fr_cfg_set_tickets(cfg, count));
}

FERRULE_API int ferrule_config_set_psk_modes(ferrule_config *cfg, uint32_t modes) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    return fr_abi_setter_result(cfg, fr_cfg_set_psk_modes(cfg, modes));
}

FERRULE_API size_t ferrule_sizeof_resumption_options(void) {
    return sizeof(ferrule_resumption_options);
}

FERRULE_API int ferrule_config_set_resumption(ferrule_config *cfg,
                                              const ferrule_resumption_options *opts) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    ferrule_resumption_options o;
    if (fr_abi_copy_struct(&o, sizeof(o), opts) != FR_OK || o.reserved0 != 0)
        return fr_abi_setter_result(cfg, FERRULE_R_BAD_STRUCT);
    return fr_abi_setter_result(cfg, fr_cfg_set_resumption(cfg, o.accept, o.client_identity));
}

/* Not subject to freezing: rotation happens while connections use the
 * config (the ring has its own lock). */
FERRULE_API int ferrule_config_set_ticket_key(ferrule_config *cfg, const uint8_t name[16],
                                              const uint8_t key[32]) {
    if (cfg == NULL || name == NULL || key == NULL) return FERRULE_USAGE;
    fr_cfg_set_ticket_key(cfg, name, key);
    return FERRULE_OK;
}

FERRULE_API int ferrule_conn_session(ferrule_conn *c, uint8_t *out, size_t cap, size_t *len) {
    if (c == NULL || len == NULL) {
        if (c != NULL) fr_conn_set_usage_reason(c, FERRULE_R_NULL_ARGUMENT);
        return FERRULE_USAGE;
    }
    /* The engine takes FR_LOCK_CONN_ERR: the receive half replaces the
     * kept ticket when one arrives; the blob is built from it. */
    fr_err e = fr_conn_session(c, out, cap, len);
    if (e == FR_OK) return FERRULE_OK;
    fr_conn_set_usage_reason(c, e);
    return e == FERRULE_R_WRONG_STATE || e == FERRULE_R_BUFFER_TOO_SMALL ? FERRULE_USAGE
                                                                         : fr_err_class(e);
}

FERRULE_API int ferrule_conn_set_session(ferrule_conn *c, const uint8_t *blob, size_t len) {
    if (c == NULL) return FERRULE_USAGE;
    if (blob == NULL) {
        fr_conn_set_usage_reason(c, FERRULE_R_NULL_ARGUMENT);
        return FERRULE_USAGE;
    }
    pthread_mutex_lock(&fr_abi_host(c)->rd_lock);
    fr_err e = fr_conn_set_session(c, blob, len);
    pthread_mutex_unlock(&fr_abi_host(c)->rd_lock);
    if (e == FR_OK) return FERRULE_OK;
    fr_conn_set_usage_reason(c, e);
    /* A session that cannot be offered now or is not a session blob is a
     * misuse; running out of memory is what it is. */
    return e == FERRULE_R_WRONG_STATE || e == FERRULE_R_DECODE_ERROR ? FERRULE_USAGE
                                                                       : fr_err_class(e);
}

FERRULE_API int ferrule_session_max_early_data(const uint8_t *blob, size_t len, uint32_t *max) {
    if (max != NULL) *max = 0;
    if (blob == NULL || max == NULL) return FERRULE_USAGE;
    return fr_session_blob_max_early(blob, len, max) == FR_OK ? FERRULE_OK : FERRULE_USAGE;
}
