/* hrr.c - HelloRetryRequest configuration: the stateless cookie key
 * (RFC 8446 §4.2.2). */
#include "abi.h"

/* Called by ferrule_config_new: a fresh random cookie key per config, made
 * before the config can be shared (fr_hrr_cookie_key would otherwise make
 * it on first use, also thread-safely). */
fr_err fr_hrr_config_init(ferrule_config *cfg) {
    const uint8_t *key;
    return fr_hrr_cookie_key(cfg, &key);
}

FERRULE_API int ferrule_config_set_cookie_key(ferrule_config *cfg, const uint8_t *key, size_t len) {
    /* Like every setter: only before the config is in use, because
     * connections read the key without a lock. */
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    fr_err e = FR_OK;
    if (key == NULL)
        e = FERRULE_R_NULL_ARGUMENT;
    else if (len != FR_HRR_COOKIE_KEY_LEN)
        e = FERRULE_R_CONFIG_INVALID;
    if (e == FR_OK) {
        memcpy(cfg->hrr.cookie_key, key, FR_HRR_COOKIE_KEY_LEN);
        atomic_store(&cfg->hrr.cookie_key_state, FR_HRR_KEY_READY);
    }
    return fr_abi_setter_result(cfg, e);
}
