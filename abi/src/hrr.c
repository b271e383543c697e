/* hrr.c - HelloRetryRequest configuration: the stateless cookie key
 * (RFC 8446 §4.2.2). */
#include "abi.h"

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
    if (e == FR_OK) memcpy(cfg->hrr.cookie_key, key, FR_HRR_COOKIE_KEY_LEN);
    return fr_abi_setter_result(cfg, e);
}
