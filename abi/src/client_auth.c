/* client_auth.c - the client authentication setting of a config. */
#include "abi.h"

FERRULE_API int ferrule_config_set_client_auth(ferrule_config *cfg, uint32_t mode) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    fr_err e = FR_OK;
    /* Only a server asks for certificates (RFC 8446 §4.3.2). */
    if (cfg->role != FERRULE_ROLE_SERVER)
        e = FERRULE_R_CONFIG_INVALID;
    else if (mode != FERRULE_CLIENT_AUTH_NONE && mode != FERRULE_CLIENT_AUTH_REQUEST &&
             mode != FERRULE_CLIENT_AUTH_REQUIRE)
        e = FERRULE_R_CONFIG_INVALID;
    else
        cfg->cauth.mode = mode;
    return fr_abi_setter_result(cfg, e);
}
