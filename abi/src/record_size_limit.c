/* record_size_limit.c (ABI) - RFC 8449 configuration and the negotiated
 * value (docs/record-size-limit.md). */
#include "abi.h"

FERRULE_API int ferrule_config_set_record_size_limit(ferrule_config *cfg, uint32_t limit) {
    int st = fr_abi_setter_check(cfg);
    if (st != FERRULE_OK) return st;
    /* RFC 8449 §4: never below 64, and TLS 1.3 allows at most 2^14 + 1. */
    if (limit < FR_RSL_MIN || limit > FR_RSL_MAX)
        return fr_abi_setter_result(cfg, FERRULE_R_CONFIG_INVALID);
    cfg->rsl.limit = (uint16_t)limit;
    return fr_abi_setter_result(cfg, FR_OK);
}

FERRULE_API uint32_t ferrule_conn_peer_record_size_limit(const ferrule_conn *c) {
    /* send_limit is set once both sides sent the extension, and only then. */
    return c != NULL ? c->rsl.send_limit : 0;
}
